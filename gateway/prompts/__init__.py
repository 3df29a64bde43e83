"""The prompt registry: named, versioned templates loaded from a directory the deployment controls."""

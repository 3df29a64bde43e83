"""Planted PII of every type the gateway must keep from providers (values are test values, none real)."""

from __future__ import annotations

PLANTED: dict[str, str] = {
    "EMAIL_ADDRESS": "jane.doe@example.com",
    "PHONE_NUMBER": "+44 20 7946 0958",
    "CREDIT_CARD": "4111 1111 1111 1111",
    "US_SSN": "536-22-8741",
    "IBAN_CODE": "DE89 3704 0044 0532 0130 00",
    "IP_ADDRESS": "203.0.113.77",
    "OPENAI_API_KEY": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "ANTHROPIC_API_KEY": "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe",
    "AWS_ACCESS_KEY": "AKIAQ3EXAMPLE7KEY2ZT",
    "GITHUB_TOKEN": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "SLACK_TOKEN": "xoxb-2048-4096-Qw3Er5Ty7Ui9",
    "STRIPE_KEY": "sk_live_51HqZx8Kd0Wm3Yt7Rb2Nc4Vf",
    "GITLAB_TOKEN": "glpat-Xy7Zq2Wv9Ut4Sr1Pq8Nm",
    "GOOGLE_API_KEY": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "HUGGINGFACE_TOKEN": "hf_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB",
    "NPM_TOKEN": "npm_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAbCd",
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "PRIVATE_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
}


def prompt_with_all() -> str:
    """One prompt carrying every planted value, in ordinary sentences."""
    return " ".join(f"My {kind.lower().replace('_', ' ')} is {value} ." for kind, value in PLANTED.items())

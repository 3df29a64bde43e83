"""Every correction to faust-streaming and aiokafka, and every use of their private internals, in one place."""

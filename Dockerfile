# streamgate image: the gateway workers, the CLI and the provider simulator (`streamgate <command>`).
#   docker build -t streamgate .     or     docker compose up --build
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the wheel needs (every package of pyproject's [tool.setuptools] list; tests/test_dockerfile.py checks):
# no .venv, tests or local state end up in the image.
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY streams ./streams
COPY agents ./agents
COPY guards ./guards
COPY gateway ./gateway
COPY bench ./bench
COPY streamgate ./streamgate
# guardrails-ai without its openai<3/litellm pins: see pyproject.toml and README "Guards".
RUN pip install . && pip install --no-deps guardrails-ai==0.11.0 \
    && useradd --create-home --uid 10001 streamgate \
    && mkdir -p /var/lib/streamgate \
    && chown streamgate /var/lib/streamgate

USER streamgate
WORKDIR /home/streamgate
# Faust table state (changelog-backed) and other local state; give each worker its own volume.
ENV STREAMGATE_DATA_DIR=/var/lib/streamgate
VOLUME ["/var/lib/streamgate"]
# 6066: Faust web server (metrics, status); 8787: the provider simulator.
EXPOSE 6066 8787

ENTRYPOINT ["streamgate"]
CMD ["worker"]

# The sevadesk image: the `seva` command and the shipped triage model; nothing else.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && useradd --system --uid 10001 seva
USER seva
EXPOSE 8000
CMD ["seva", "serve", "--host", "0.0.0.0", "--port", "8000"]

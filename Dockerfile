# The media asset service: API (`serve`), indexer (`indexer`) and maintenance commands.
# Build stage: turn the project into wheels (every dependency ships binary wheels,
# so no compiler is needed here either).
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY indexer ./indexer
COPY store ./store
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Final stage: the wheels installed into a slim Python, run as a non-root user.
FROM python:3.12-slim
RUN useradd --system --uid 10001 --create-home --home-dir /app media \
    && mkdir /data && chown media:media /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER media
WORKDIR /app
ENV MEDIA_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["media-assets"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

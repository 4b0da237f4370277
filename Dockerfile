# newsmon worker / watcher image. The broker comes from the apache/kafka image (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY monitor ./monitor
COPY rules ./rules
RUN pip install --no-cache-dir -c constraints.txt .
ENV NEWSMON_LOG_FORMAT=json
ENTRYPOINT ["newsmon"]
CMD ["worker"]

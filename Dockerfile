FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 POLICYHUB_ENV=production \
    POLICYHUB_VAR_DIR=/var/lib/policyhub MEDIA_ROOT=/var/lib/policyhub/media STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs a key to import settings; it is not used at run time.
RUN SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
 && useradd --system --home /var/lib/policyhub policyhub && mkdir -p /var/lib/policyhub/media \
 && chown -R policyhub /var/lib/policyhub
USER policyhub
EXPOSE 8000
CMD ["gunicorn", "policyhub.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]

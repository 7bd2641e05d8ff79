"""The reference for web benchmarks: a bare Flask route, served by the same gunicorn
configuration as the application."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"

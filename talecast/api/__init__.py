"""The Stories API service (Camb.ai compatible).

``talecast.api.app.create_app`` builds the web app; ``talecast.api.server.serve``
runs it with its render workers.
"""

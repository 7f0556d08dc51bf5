"""The story pipeline, one module per stage.

read (reading) -> find quotes (dialogue) -> find the cast (characters) -> name speakers
(attribution) -> plan lines (script) -> cast voices (casting) -> speak (normalize,
synthesis, cache) -> assemble (assembly). ``render.render_story`` runs them all; the
CLI, the workers and the API call it, or the stages one by one.
"""

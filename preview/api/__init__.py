"""HTTP API blueprints: generations, previews, log streams."""

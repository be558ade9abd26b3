settings = {"title": "Blog"}

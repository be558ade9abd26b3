from fastapi import FastAPI

from app.schemas import PostUpdate

app = FastAPI()


@app.patch("/posts/{post_id}")
def update(post_id: int, post: PostUpdate):
    return post

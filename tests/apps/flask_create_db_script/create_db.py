# create_db.py: no function, no __main__ block; its work is in a with statement.

from project.app import Post, app, db

with app.app_context():
    db.create_all()
    db.session.add(Post(title="created"))
    db.session.commit()
    print("tables created")

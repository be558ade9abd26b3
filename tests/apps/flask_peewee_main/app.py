"""A Flask app on peewee whose tables are made by the function its ``__main__`` block
calls before it serves (peewee's blog example: ``main()`` creates them, then
``app.run()``)."""

from flask import Flask, jsonify
from peewee import CharField, Model, SqliteDatabase

database = SqliteDatabase("notes.db")
app = Flask(__name__)


class Note(Model):
    text = CharField()

    class Meta:
        database = database


@app.get("/notes")
def notes():
    return jsonify([note.text for note in Note.select()])


def main():
    database.create_tables([Note], safe=True)
    Note.create(text="made by main()")
    app.run(debug=True)


if __name__ == "__main__":
    main()

"""Create the tables and seed them: python -m scripts.init_db (from the project's root)."""

from sqlalchemy.orm import Session

from app.db import Base, Item, engine


def main() -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Item(name="seeded"))
        session.commit()
    print("tables created")


if __name__ == "__main__":
    main()

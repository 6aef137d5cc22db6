"""Real program for the scale audit: a SQLAlchemy ORM script (declarative models, relationships, queries)."""
from sqlalchemy import ForeignKey, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    addresses: Mapped[list["Address"]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="addresses")


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
with Session(engine) as session:
    for k in range(40):
        session.add(User(name=f"user{k}", addresses=[Address(email=f"u{k}.{j}@example.org") for j in range(3)]))
    session.commit()
    for u in session.scalars(select(User).where(User.name.like("user1%"))):
        _ = [a.email for a in u.addresses]
    n = session.scalar(select(func.count(Address.id)))
    third = session.get(User, 3)
    assert third is not None
    third.addresses.pop()
    session.commit()
    print(n, len(session.scalars(select(Address)).all()))

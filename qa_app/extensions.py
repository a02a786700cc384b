"""Flask extensions, created unbound and initialised in create_app."""

from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from socketio.packet import Packet
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with named constraints, so migrations can alter them."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
csrf = CSRFProtect()


class JsonPacket(Packet):
    """A Socket.IO packet that carries JSON only. qa_app sends no binary data, so a packet need
    not search its data for bytes before it is encoded; python-socketio's default packet does, for
    every snapshot, update and acknowledgement (a phone's snapshot holds hundreds of values, and
    the search took about a tenth of the CPU of letting a phone in). Bytes in a payload now fail
    to encode, loudly, instead of going out as a binary attachment no client of ours reads."""

    uses_binary_events = False

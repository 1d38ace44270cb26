from flask import Blueprint

bp = Blueprint("insight", __name__)

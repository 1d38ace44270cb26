from flask import Blueprint

bp = Blueprint("accreditation", __name__)

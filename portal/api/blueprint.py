"""The API's blueprint, on its own so the route modules can import it without importing the
package that lists them."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

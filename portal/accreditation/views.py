from flask import render_template

from portal.accreditation import bp


@bp.get("/accredited-providers")
def register_list():
    return render_template("accreditation/register.html", title="Accredited providers")

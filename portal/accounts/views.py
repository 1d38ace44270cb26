from portal.accounts import bp


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    return "TODO"


@bp.get("/register")
def register_start():
    return "TODO"


@bp.get("/account")
def account():
    return "TODO"

"""Villages: commune staff create, rename and retire them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.access import commune_for, village_for
from lms.errors import DomainError
from lms.extensions import db
from lms.units import operations, queries
from lms.units.forms import RenameVillageForm, VillageForm

bp = Blueprint("units", __name__, template_folder="templates")


def _own_commune():
    return commune_for(current_user, "manage_villages")


@bp.route("/villages", methods=["GET", "POST"])
@login_required
def villages():
    commune = _own_commune()
    form = VillageForm()
    status = 200
    if form.validate_on_submit():
        try:
            village = operations.create_village(commune, form.name.data, form.division_type.data,
                                                actor_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, error.message]
        else:
            db.session.commit()
            flash(_("Added {name}.").format(name=village.name), "success")
            return redirect(url_for("units.villages"))
    if request.method == "POST":
        status = 422
    return render_template("units/villages.html", commune=commune, form=form,
                           villages=queries.villages_of(commune.id),
                           rename_form=RenameVillageForm(formdata=None)), status


def _own_village(village_id: int):
    return village_for(current_user, village_id, "manage_villages")


@bp.post("/villages/<int:village_id>/rename")
@login_required
def rename_village(village_id: int):
    village = _own_village(village_id)
    form = RenameVillageForm()
    if not form.validate():
        flash(_("Enter a village name of at most 120 characters."), "error")
        return redirect(url_for("units.villages"))
    operations.rename_village(village, form.name.data, actor_id=current_user.id)
    db.session.commit()
    flash(_("Renamed to {name}.").format(name=village.name), "success")
    return redirect(url_for("units.villages"))


@bp.post("/villages/<int:village_id>/retire")
@login_required
def retire_village(village_id: int):
    village = _own_village(village_id)
    operations.retire_village(village, actor_id=current_user.id)
    db.session.commit()
    flash(_("{name} is no longer listed. Its learners keep their history.").format(name=village.name), "success")
    return redirect(url_for("units.villages"))

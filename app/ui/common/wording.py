"""Spanish wording helpers shared by every screen."""

from __future__ import annotations


def plural(n: int, one: str, many: str, zero: str | None = None) -> str:
    """The sentence for a count: `one` when n == 1, `zero` (if given) when n == 0,
    else `many`; "{n}" in the chosen text is replaced by the number.

    plural(1, "Se aprobó {n} ficha", "Se aprobaron {n} fichas") -> "Se aprobó 1 ficha"."""
    text = one if n == 1 else zero if (n == 0 and zero is not None) else many
    return text.replace("{n}", str(n))


# A setting IT fixed in its settings file (`locked`), as every screen says it.
LOCKED_TIP = "TI fijó esta opción en el archivo de configuración."


def locked_note(source: str) -> str:
    """Under a setting IT fixed: where the value comes from and that it cannot be changed
    here (`source`: the settings module's words, e.g. «fijada por TI (archivo del
    equipo)»)."""
    return (f"Valor tomado de: {source}. {LOCKED_TIP} No se puede cambiar aquí; para "
            "otro valor, TI debe cambiar ese archivo.")


# The send queue, as every screen names it (the status bar, the sync panel, the records
# list's counter, the dashboard): SyncStatus.pending, «registros», since it holds steps of
# a case (visits, desestimaciones) besides the approved fichas.
QUEUE_TIP = ("Registros que este equipo enviará al SIEE en la próxima sincronización: las "
             "fichas aprobadas de todos sus usuarios, los intentos de visita y las "
             "desestimaciones. Siguen en la cola hasta que llega el recibo del SIEE.")

"""The short guide of each screen (F1 / menu «Ayuda»), in Spanish: what the
screen is for, what to do next, and what each state means. Plain HTML for a
QTextBrowser; keys of GUIDES are the screen names used by the windows."""

from __future__ import annotations

from app.core.states import STATE_LABELS

STATES = (
    "<p><b>Estados de una ficha</b></p><ul>"
    "<li><b>Borrador</b>: se está llenando; se guarda sola en cada respuesta.</li>"
    "<li><b>Completa</b>: pasó la revisión de la ficha (Ctrl+Enter); espera al supervisor.</li>"
    "<li><b>Observada</b>: el supervisor o el SIEE pidió correcciones; ábrala, corrija lo "
    "indicado y vuelva a completarla.</li>"
    "<li><b>En cola de envío</b>: el supervisor la aprobó; se enviará al SIEE en la próxima "
    "sincronización.</li>"
    "<li><b>Entregada</b>: ya está en el SIEE; el resultado llega cuando el SIEE lo "
    "publica (sincronice más tarde).</li>"
    "<li><b>Con resultado</b>: el SIEE devolvió la clasificación socioeconómica (CSE); "
    "se ve en la lista y en la ficha, y puede imprimir la constancia.</li>"
    "</ul>"
)


def _check_state_names() -> None:
    """The guide names every state as the screens do (STATE_LABELS)."""
    missing = [label for label in STATE_LABELS.values() if f"<b>{label}</b>" not in STATES]
    if missing:
        raise AssertionError(f"guide misses states: {missing}")


GUIDES: dict[str, tuple[str, str]] = {
    "login": (
        "Iniciar sesión",
        "<p>Elija su usuario, escriba su contraseña y pulse Enter.</p>"
        "<p>Tras varios intentos fallidos la cuenta espera unos minutos antes de "
        "permitir otro intento.</p><p><b>¿Olvidó su contraseña?</b> Pulse ese enlace: "
        "el administrador de la ULE se la restablece en Supervisión › Usuarios; un "
        "administrador que olvidó la suya usa el código de recuperación. Si le dieron una "
        "contraseña inicial, el programa le pedirá elegir una propia al ingresar.</p>",
    ),
    "records": (
        "Fichas",
        "<p>Aquí están las fichas de este equipo. Qué hacer:</p><ol>"
        "<li><b>Nueva S100</b> (Ctrl+N): registre la solicitud del hogar.</li>"
        "<li>Con la S100 elegida en la lista, <b>Nueva FSU desde la S100</b> (Ctrl+U): "
        "la ficha del hogar empieza con lo que la S100 ya tiene (y con el empadronador(a), "
        "la fecha y el resultado de la visita completa registrada en el expediente).</li>"
        "<li><b>Abrir</b> (Enter) continúa una ficha donde la dejó.</li>"
        "<li>Las fichas <b>observadas</b> aparecen primero, en rojo, con el motivo "
        "debajo de la lista.</li></ol>"
        "<p>Ctrl+F busca por DNI; F5 vuelve a cargar la lista.</p>" + STATES,
    ),
    "form": (
        "Llenar una ficha",
        "<p>Escriba cada respuesta y pulse Enter (o Tab) para pasar a la siguiente; "
        "se guarda sola. Si una respuesta no cumple una regla, el mensaje aparece "
        "debajo de la pregunta y el cursor se queda ahí: corríjala, o pulse Enter otra "
        "vez para seguir y corregirla después.</p>"
        "<p>En las preguntas con opciones, escriba el código o el nombre y confirme "
        "con Enter. Al terminar, Ctrl+Enter completa la ficha; si faltan datos, la "
        "lista de abajo dice cuáles (doble clic o Enter lleva a la pregunta).</p>",
    ),
    "review": (
        "Revisar una ficha",
        "<p>Lea la ficha: los errores y advertencias están arriba. Si todo está bien, "
        "<b>Aprobar</b>; si hay que corregir, <b>Observar y devolver</b> con el motivo "
        "y las preguntas a revisar: vuelve al empadronador como «Observada».</p>" + STATES,
    ),
    "review_queue": (
        "Revisión",
        "<p>Las fichas completas esperan aquí su revisión. Enter abre la ficha "
        "elegida; puede marcar varias sin advertencias y aprobarlas juntas.</p>" + STATES,
    ),
    "dashboard": (
        "Tablero",
        "<p>Cuántas fichas hay en cada estado y cuáles llevan más días sin avanzar. "
        "Doble clic abre una ficha.</p>" + STATES,
    ),
    "users": (
        "Usuarios",
        "<p>Cree las cuentas del personal de la ULE con su rol y una contraseña "
        "inicial, restablezca contraseñas olvidadas («Restablecer contraseña…») o "
        "desactive a quien ya no trabaja en la ULE (sus fichas se pueden reasignar).</p>"
        "<p>Una contraseña que usted da (nueva o restablecida) sirve solo para ingresar "
        "una vez: el programa pide a la persona que elija una propia. Su propia "
        "contraseña se cambia en el menú Cuenta › Cambiar mi contraseña.</p>",
    ),
    "audit": (
        "Bitácora",
        "<p>Quién hizo qué y cuándo. «Verificar cadena» comprueba que nadie alteró "
        "la bitácora.</p>",
    ),
    "supervision": (
        "Supervisión",
        "<p>Revisión de fichas, tablero, usuarios y bitácora, según su rol. "
        "Ctrl+E exporta datos; Ctrl+W cierra esta ventana.</p>",
    ),
    "wizard": (
        "Primera configuración",
        "<p>Se hace una sola vez en este equipo: la cuenta del administrador, el "
        "distrito de la ULE, el código de recuperación (anótelo en papel y guárdelo: "
        "es la única forma de recuperar los datos si se pierde la contraseña) y, si "
        "tiene uno, el servidor del SIEE.</p>",
    ),
    "sync": (
        "Sincronización",
        "<p>Envía al SIEE las fichas aprobadas y trae las observaciones y los "
        "resultados. Los resultados llegan cuando el SIEE los publica: sincronice de "
        "nuevo más tarde. Sin internet, use «Exportar lote a USB».</p>",
    ),
    "dialog": (
        "Ayuda",
        "<p>Complete los campos y pulse el botón de la acción (Enter). Esc cierra sin "
        "cambiar nada.</p>",
    ),
}


def guide_html(key: str) -> tuple[str, str]:
    """(title, html) of a screen's guide; the generic one for an unknown key."""
    return GUIDES.get(key, GUIDES["dialog"])

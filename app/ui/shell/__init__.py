"""Shell room: the program's frame.

Start-up, login, the main window and its records page, the supervision window
(which puts the review and admin pages together), the Qt self-test. The only room
that may import the other rooms."""

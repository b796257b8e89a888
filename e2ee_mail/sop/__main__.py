"""``python -m e2ee_mail.sop``."""

from .cli import main

raise SystemExit(main())

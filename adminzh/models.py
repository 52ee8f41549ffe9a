# No models: this module makes Django send adminzh the post_migrate signal (adminzh/fixes.py).

# A models module makes Django send core the post_migrate signal (core/adminzh/fixes.py renames records).

# site defaults
umask 002

# convenience
umask 022

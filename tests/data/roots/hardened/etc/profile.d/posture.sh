umask 0077

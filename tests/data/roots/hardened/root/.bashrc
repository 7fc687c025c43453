# root keeps the strict default
umask 027
PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin

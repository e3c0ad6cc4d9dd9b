/*
 * fileio.c — fsync and fdatasync.  Both wait on the disk; with
 * GREEN_FILEIO=pool or nowait they run on the worker pool so that only the
 * caller waits (runtime/fileio.c).  Inline (the default), and wherever the
 * caller may not park, they are libc's.  Both are cancellation points.
 */
#include <unistd.h>
#include "green.h"

GR_EXPORT int fsync(int fd)
{
	if (gr_conf()->fileio == GR_FILEIO_INLINE || !gr_park_useful())
		return REAL(fsync)(fd);
	gr_testcancel();
	return (int)gr_ret(gr_file_io(GR_FILE_FSYNC, fd, NULL, 0, -1));
}

GR_EXPORT int fdatasync(int fd)
{
	if (gr_conf()->fileio == GR_FILEIO_INLINE || !gr_park_useful())
		return REAL(fdatasync)(fd);
	gr_testcancel();
	return (int)gr_ret(gr_file_io(GR_FILE_FDATASYNC, fd, NULL, 0, -1));
}

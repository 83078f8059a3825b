#include "wadup_interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t count;
static int pipe_write = -1;
static const int handled[] = {SIGINT, SIGTERM, SIGHUP};

static void handle(int signal) {
  count += 1;
  // A second signal ends the process at once, with the shell's status for that signal.
  if (count >= 2) _exit(128 + signal);
  int saved = errno;
  unsigned char number = (unsigned char)signal;
  if (pipe_write >= 0) (void)!write(pipe_write, &number, 1);
  errno = saved;
}

int wadup_interrupt_install(void) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  count = 0;
  pipe_write = fds[1];
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handle;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigset_t set;
  sigemptyset(&set);
  for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) {
    sigaction(handled[i], &action, NULL);
    sigaddset(&set, handled[i]);
  }
  // A parent may have started us with these signals blocked (the mask survives exec): unblock them
  // here, on the main thread, whose mask every thread created later inherits.
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  return fds[0];
}

void wadup_interrupt_uninstall(void) {
  for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) signal(handled[i], SIG_DFL);
  int fd = pipe_write;
  pipe_write = -1;
  if (fd >= 0) close(fd);  // the watcher reads end of file and ends
}

// SIGINT/SIGTERM/SIGHUP handling that no busy thread can delay: the handler itself counts the
// signals, writes the signal's number (one byte) to a pipe on the first (a watcher thread reads it
// and stops the run), and calls _exit(128 + signal) on the second. Only async-signal-safe calls
// are made in the handler.
#ifndef WADUP_INTERRUPT_H
#define WADUP_INTERRUPT_H

/// Installs the handler for SIGINT, SIGTERM and SIGHUP; returns the pipe's read end, or -1 (errno set).
int wadup_interrupt_install(void);
/// Restores the default dispositions and closes the pipe's write end.
void wadup_interrupt_uninstall(void);

#endif

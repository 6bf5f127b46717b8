// rcvgovctl's long-running views (top, record) stop cleanly on Ctrl-C or
// SIGTERM: the handler only sets a flag, and a blocking poll() or sleep
// returns early (no SA_RESTART), so the loop ends at its next check with
// its output flushed and the terminal restored.
#pragma once

namespace rcvgov::cli {

void catch_interrupts();
bool interrupted();
// Sleeps up to ms milliseconds, less when interrupted.
void nap_ms(long ms);

} // namespace rcvgov::cli

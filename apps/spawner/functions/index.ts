// The Function app's entry (package.json "main"): each trigger registers itself on import.
// No timer: with no task active, nothing runs (and nothing bills).
import './work-queue.js';
import './dead-letters.js';

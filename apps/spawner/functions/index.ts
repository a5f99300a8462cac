// The Function app's entry (package.json "main"): each trigger registers itself on import.
import './dispatch-work.js';
import './reap-containers.js';

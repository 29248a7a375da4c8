"""Every call into git: objects and refs in-process (pygit2); transport through `git` later."""

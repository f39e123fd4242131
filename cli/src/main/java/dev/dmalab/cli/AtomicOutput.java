package dev.dmalab.cli;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes an output file atomically: into a temporary file beside it, then renamed over it, so that an existing
 * file is never left half-written and a failed run never destroys output written before.
 */
final class AtomicOutput {
    /** What to write. */
    interface Body {
        void write(Writer w) throws IOException;
    }

    private AtomicOutput() {}

    /** Fails early, with a usage error, if {@code path} cannot be written. */
    static void checkWritable(Path path) {
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new UsageException(path + ": the directory does not exist");
        }
        if (Files.isDirectory(path)) {
            throw new UsageException(path + ": is a directory");
        }
        if (!Files.isWritable(dir)) {
            throw new UsageException(path + ": the directory is not writable");
        }
    }

    /**
     * Gives the temporary file the permissions of the file it replaces, or rw-r--r-- for a new one (a temporary file
     * is created private, and the output must not be).
     */
    private static void permissions(Path tmp, Path path) throws IOException {
        if (!Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
            return;
        }
        Set<PosixFilePermission> perms =
                Files.exists(path) ? Files.getPosixFilePermissions(path) : PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(tmp, perms);
    }

    static void write(Path path, Body body) {
        Path dir = path.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                body.write(w);
            }
            permissions(tmp, path);
            try {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UsageException(path + ": cannot write: " + e.getMessage());
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the rename already succeeded or the temp file is gone
                }
            }
        }
    }
}

package dev.dmalab.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the vendored real captures under {@code testdata/captures} of the repository. */
public final class Captures {
    private Captures() {}

    /** The capture folder {@code relative} (e.g. {@code x86-q35/swiotlb-force}); fails if it is missing. */
    public static Path dir(String relative) {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            Path candidate = p.resolve("testdata/captures").resolve(relative);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("capture testdata/captures/" + relative + " not found above " + here);
    }

    public static String read(String relative, String file) {
        try {
            return Files.readString(dir(relative).resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The value of kernel parameter {@code key} in the capture's cmdline.txt, or "" if absent. */
    public static String cmdlineParam(String relative, String key) {
        for (String tok : read(relative, "cmdline.txt").trim().split("\\s+")) {
            if (tok.startsWith(key + "=")) {
                return tok;
            }
        }
        return "";
    }
}

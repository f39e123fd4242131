package dev.dmalab.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The vendored seed report ({@code testdata/seed/xen-arm64-dom0-thread.txt}) and the Oops in it. */
public final class Seed {
    private Seed() {}

    /** One frame of the arm64 call trace as printed: {@code [4.253985]  name+0x64/0x1e8}. */
    private static final Pattern FRAME =
            Pattern.compile("^\\[[0-9.]+\\]\\s+([A-Za-z0-9_.]+)\\+0x[0-9a-f]+/0x[0-9a-f]+$");

    /** The thread's text. */
    public static String thread() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            Path candidate = p.resolve("testdata/seed/xen-arm64-dom0-thread.txt");
            if (Files.isRegularFile(candidate)) {
                try {
                    return Files.readString(candidate);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException("testdata/seed/xen-arm64-dom0-thread.txt not found above " + here);
    }

    /**
     * The Oops's call trace, innermost first, as function names: offsets dropped, and GCC's partial-inlining suffix
     * ({@code ata_host_start.part.10}) reduced to the function's name.
     */
    public static List<String> callTrace() {
        List<String> out = new ArrayList<>();
        boolean inTrace = false;
        for (String line : thread().split("\n")) {
            if (line.endsWith("Call trace:")) {
                inTrace = true;
                continue;
            }
            if (inTrace) {
                Matcher m = FRAME.matcher(line.strip());
                if (!m.matches()) {
                    break;
                }
                out.add(m.group(1).replaceAll("\\.part\\.\\d+$", ""));
            }
        }
        return out;
    }
}

package dev.dmalab.kernel;

/** The CPU architectures dmalab models; what each one does lives in {@code dev.dmalab.arch}. */
public enum ArchKind {
    X86_64("x86_64"),
    ARM64("arm64"),
    ARM32("arm");

    private final String kernelName;

    ArchKind(String kernelName) {
        this.kernelName = kernelName;
    }

    /** The name the kernel uses ({@code arch/<name>}). */
    public String kernelName() {
        return kernelName;
    }

    /** Bits of a kernel virtual address / pointer ({@code %p} prints this many hex digits / 4). */
    public int pointerBits() {
        return this == ARM32 ? 32 : 64;
    }

    public static ArchKind parse(String text) {
        for (ArchKind a : values()) {
            if (a.kernelName.equals(text) || a.name().equalsIgnoreCase(text)) {
                return a;
            }
        }
        if ("arm32".equals(text) || "aarch32".equals(text)) {
            return ARM32;
        }
        if ("aarch64".equals(text)) {
            return ARM64;
        }
        if ("x86".equals(text) || "amd64".equals(text)) {
            return X86_64;
        }
        throw new IllegalArgumentException("unknown arch '" + text + "' (x86_64, arm64 or arm)");
    }
}

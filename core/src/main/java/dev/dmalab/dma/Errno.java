package dev.dmalab.dma;

/** The errno values the DMA API returns ({@code include/uapi/asm-generic/errno-base.h}, {@code errno.h}). */
public final class Errno {
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int EREMOTEIO = 121;

    private Errno() {}

    public static String name(int errno) {
        return switch (Math.abs(errno)) {
            case EIO -> "EIO";
            case ENXIO -> "ENXIO";
            case ENOMEM -> "ENOMEM";
            case EINVAL -> "EINVAL";
            case EREMOTEIO -> "EREMOTEIO";
            default -> "E" + Math.abs(errno);
        };
    }
}

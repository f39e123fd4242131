package dev.dmalab.cli;

/** A usage error found while running a command (unknown platform, kernel, workload; bad output path). */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message, null, false, false);
    }

    /** Runs a lookup that signals bad user input with {@link IllegalArgumentException}, as a usage error. */
    static <T> T lookup(java.util.function.Supplier<T> lookup) {
        try {
            return lookup.get();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}

package dev.dmalab.kernel;

/**
 * Something a check noticed about the modelled kernel's DMA use that is not (yet) a crash: a kernel-side misuse or a
 * hazard a reviewer asked to warn about. The DMA-API checker (its own issue) will add many more.
 *
 * @param check a short stable identifier, e.g. {@code xen-direct-with-dma-ops}
 * @param device the device concerned ({@code dev_name}), or "" for none
 * @param message one line, saying what is wrong and why it matters
 */
public record Finding(String check, String device, String message) {
    @Override
    public String toString() {
        return (device.isEmpty() ? "" : device + ": ") + message + " [" + check + "]";
    }
}

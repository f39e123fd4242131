package dev.dmalab.dma;

/** Receives every {@link DmaEvent} the modelled kernel emits, in order. */
@FunctionalInterface
public interface DmaListener {
    void onEvent(DmaEvent event);
}

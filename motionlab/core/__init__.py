"""The base layer: atomic writes, hashing, rank helpers and error types. Imported by every other
package of motionlab; imports nothing of motionlab itself."""

//! Tiles (the chunks of a render) and their assembly into an image.
//!
//! The image is cut into `tile_size × tile_size` tiles, in row-major tile order; tiles on the
//! right and bottom edges are smaller. A chunk is the tile's RGBA8 pixels, rows top to bottom.

use crate::error::KernelError;

/// Where tile `index` lies in the image: (x, y, w, h) in pixels.
pub fn tile_rect(width: u32, height: u32, tile_size: u32, index: u32) -> (u32, u32, u32, u32) {
    let across = width.div_ceil(tile_size);
    let x = (index % across) * tile_size;
    let y = (index / across) * tile_size;
    (x, y, tile_size.min(width - x), tile_size.min(height - y))
}

/// Number of tiles of an image.
pub fn tile_count(width: u32, height: u32, tile_size: u32) -> u32 {
    width.div_ceil(tile_size) * height.div_ceil(tile_size)
}

/// Cuts a row-major RGBA8 image (`width × height`) into tiles.
pub fn split_into_tiles(image: &[u8], width: u32, height: u32, tile_size: u32) -> Vec<Vec<u8>> {
    (0..tile_count(width, height, tile_size))
        .map(|i| {
            let (x, y, w, h) = tile_rect(width, height, tile_size, i);
            let mut tile = Vec::with_capacity((w * h * 4) as usize);
            for row in y..y + h {
                let start = ((row * width + x) * 4) as usize;
                tile.extend_from_slice(&image[start..start + (w * 4) as usize]);
            }
            tile
        })
        .collect()
}

/// Assembles tiles (chunks, in order) into a row-major RGBA8 image.
pub fn assemble_tiles<T: AsRef<[u8]>>(
    tiles: &[T],
    width: u32,
    height: u32,
    tile_size: u32,
) -> Result<Vec<u8>, KernelError> {
    let count = tile_count(width, height, tile_size);
    if tiles.len() != count as usize {
        return Err(KernelError::Image(format!(
            "{} tiles given, a {width}×{height} image in tiles of {tile_size} has {count}",
            tiles.len()
        )));
    }
    let mut image = vec![0u8; (width as usize) * (height as usize) * 4];
    for (i, tile) in tiles.iter().enumerate() {
        let tile = tile.as_ref();
        let (x, y, w, h) = tile_rect(width, height, tile_size, i as u32);
        if tile.len() != (w * h * 4) as usize {
            return Err(KernelError::Image(format!(
                "tile {i} is {} bytes, expected {} ({w}×{h} RGBA8)",
                tile.len(),
                w * h * 4
            )));
        }
        for r in 0..h {
            let dst = (((y + r) * width + x) * 4) as usize;
            let src = (r * w * 4) as usize;
            image[dst..dst + (w * 4) as usize].copy_from_slice(&tile[src..src + (w * 4) as usize]);
        }
    }
    Ok(image)
}

/// Encodes a row-major RGBA8 image as PNG.
pub fn encode_png(image: &[u8], width: u32, height: u32) -> Result<Vec<u8>, KernelError> {
    if image.len() != (width as usize) * (height as usize) * 4 {
        return Err(KernelError::Image(format!(
            "{} bytes is not a {width}×{height} RGBA8 image",
            image.len()
        )));
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc
            .write_header()
            .map_err(|e| KernelError::Image(e.to_string()))?;
        writer
            .write_image_data(image)
            .map_err(|e| KernelError::Image(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| KernelError::Image(e.to_string()))?;
    }
    Ok(out)
}

/// Assembles tiles and encodes the image as PNG.
pub fn tiles_to_png<T: AsRef<[u8]>>(
    tiles: &[T],
    width: u32,
    height: u32,
    tile_size: u32,
) -> Result<Vec<u8>, KernelError> {
    let image = assemble_tiles(tiles, width, height, tile_size)?;
    encode_png(&image, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_assemble_round_trip() {
        let (w, h, ts) = (37u32, 21u32, 8u32);
        let image: Vec<u8> = (0..w * h * 4).map(|i| (i * 7 % 251) as u8).collect();
        let tiles = split_into_tiles(&image, w, h, ts);
        assert_eq!(tiles.len(), 5 * 3);
        assert_eq!(tile_rect(w, h, ts, 4), (32, 0, 5, 8));
        assert_eq!(tile_rect(w, h, ts, 14), (32, 16, 5, 5));
        assert_eq!(assemble_tiles(&tiles, w, h, ts).unwrap(), image);
        assert!(assemble_tiles(&tiles[1..], w, h, ts).is_err());
        let png = encode_png(&image, w, h).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}

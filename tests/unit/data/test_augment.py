import torch

from engine.data.augment import MAX_ERASE, _affine, _erase_masks, augment


def test_augment_keeps_shape_and_range_and_is_seeded() -> None:
    x = torch.rand(64, 1, 28, 28)
    first = augment(x, torch.Generator().manual_seed(0))
    assert first.shape == x.shape and first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, augment(x, torch.Generator().manual_seed(0)))
    assert not torch.equal(first, augment(x, torch.Generator().manual_seed(1)))
    assert not torch.equal(first, x)


def test_erasing_covers_at_most_its_share_of_the_image_about_half_the_time() -> None:
    masks = _erase_masks(1000, 28, 28, torch.Generator().manual_seed(0))
    share = masks.flatten(1).float().mean(1)
    assert share.max() <= MAX_ERASE
    assert 0.4 < (share > 0).float().mean() < 0.6
    assert masks.shape == (1000, 1, 28, 28)


def test_rotation_and_shift_move_content_but_keep_it_in_view() -> None:
    x = torch.zeros(32, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1.0
    moved = _affine(x, torch.Generator().manual_seed(0))
    assert not torch.allclose(moved, x)
    assert ((moved.flatten(1).sum(1) - 64).abs() < 8).all()  # the square stays whole in the frame

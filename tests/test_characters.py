"""The generated mannequin (a skinned Actor), its rest skeleton, and the 2D sprite rig.

Skinning is checked on the animated vertices Panda3D computes for the rendered frame, and on
pixels rendered offscreen; nothing is mocked.
"""

import numpy as np
import pytest
from direct.showbase.ShowBase import ShowBase
from panda3d.core import (
    AmbientLight,
    Camera,
    DirectionalLight,
    FrameBufferProperties,
    GeomVertexReader,
    GraphicsOutput,
    GraphicsPipe,
    LQuaternionf,
    NodePath,
    OrthographicLens,
    Texture,
    Thread,
    Vec3,
    Vec4,
    WindowProperties,
)

from posetrack.characters.mannequin import (
    DEFAULT_PROPORTIONS,
    HEIGHT_PARTS,
    build_mannequin,
    mannequin_proportions,
    rest_joints,
)
from posetrack.characters.presets import CANONICAL_BONES, REQUIRED_BONES, detect_preset
from posetrack.characters.skeleton import skeleton_from_actor
from posetrack.characters.sprite import REST_ANGLES, SpriteCharacter
from posetrack.errors import PosetrackError

BACKGROUND = (0.0, 0.0, 0.0)  # black clear colour: any lit body pixel is brighter


def _animated_vertices(actor: NodePath) -> np.ndarray:
    """Every vertex of the actor as skinned for its current joint transforms (N x 3)."""
    actor.find("**/+Character").node().force_update()
    out = []
    for geom_np in actor.find_all_matches("**/+GeomNode"):
        for geom in geom_np.node().get_geoms():
            data = geom.get_animated_vertex_data(True, Thread.get_current_thread())
            reader = GeomVertexReader(data, "vertex")
            while not reader.is_at_end():
                out.append(tuple(reader.get_data3()))
    return np.array(out)


def _render(base: ShowBase, scene: NodePath, size: tuple[int, int], film, centre) -> np.ndarray:
    """Render `scene` through an orthographic camera at -Y; RGB image, top row first."""
    texture = Texture("readback")
    fb = FrameBufferProperties()
    fb.set_rgba_bits(8, 8, 8, 8)
    fb.set_depth_bits(24)
    buffer = base.graphicsEngine.make_output(
        base.pipe, "character-buffer", -10, fb, WindowProperties.size(*size),
        GraphicsPipe.BF_refuse_window, base.win.gsg, base.win,
    )  # fmt: skip
    assert buffer is not None, "could not create an offscreen buffer"
    try:
        buffer.add_render_texture(texture, GraphicsOutput.RTM_copy_ram)
        buffer.set_clear_color(Vec4(*BACKGROUND, 1))
        lens = OrthographicLens()
        lens.set_film_size(*film)
        camera = scene.attach_new_node(Camera("character-camera", lens))
        camera.set_pos(centre[0], -10, centre[1])
        buffer.make_display_region().set_camera(camera)
        base.graphicsEngine.render_frame()
        base.graphicsEngine.render_frame()  # the RAM copy of the first frame lands here
        raw = np.frombuffer(bytes(texture.get_ram_image()), dtype=np.uint8)
        image = raw.reshape(size[1], size[0], 4)[::-1, :, [2, 1, 0]]
        camera.remove_node()
        return image
    finally:
        base.graphicsEngine.remove_window(buffer)


def _lit_scene(actor: NodePath) -> NodePath:
    scene = NodePath("scene")
    actor.reparent_to(scene)
    key = scene.attach_new_node(DirectionalLight("key"))
    key.set_hpr(20, -30, 0)
    scene.set_light(key)
    ambient = AmbientLight("ambient")
    ambient.set_color((0.4, 0.4, 0.4, 1))
    scene.set_light(scene.attach_new_node(ambient))
    return scene


def test_mannequin_is_an_actor_with_every_canonical_joint(showbase: ShowBase) -> None:
    actor = build_mannequin()
    names = [joint.get_name() for joint in actor.getJoints()]
    skeleton = skeleton_from_actor(actor)
    assert detect_preset(names).name == "mannequin"
    assert skeleton.preset == "mannequin"
    assert set(REQUIRED_BONES) <= set(skeleton.bones)
    assert set(skeleton.bones) == set(CANONICAL_BONES) - {"upperChest"}
    for bone in skeleton.bones:  # controlJoint must find each mapped joint
        assert not actor.controlJoint(None, "modelRoot", skeleton.joint_of[bone]).is_empty()
    assert len(_animated_vertices(actor)) > 1000, "the mannequin has almost no surface"
    actor.cleanup()


def test_control_joint_rotates_the_skin_around_the_joint(showbase: ShowBase) -> None:
    """Bending the left elbow 90 degrees moves the forearm and hand rigidly about the elbow."""
    actor = build_mannequin()
    rest = _animated_vertices(actor)
    elbow = rest_joints()["lower_arm_l"]
    control = actor.controlJoint(None, "modelRoot", "lower_arm_l")
    control.set_p(control.get_p() + 90)
    bent = _animated_vertices(actor)

    moved = np.linalg.norm(bent - rest, axis=1) > 1e-4
    assert moved.sum() > 50
    assert rest[moved, 0].min() > 0.2, "vertices away from the left forearm moved"
    # a rigid rotation about the elbow keeps every moved vertex at its distance from it
    np.testing.assert_allclose(
        np.linalg.norm(bent[moved] - elbow, axis=1),
        np.linalg.norm(rest[moved] - elbow, axis=1),
        atol=1e-4,
    )
    hand_tip = rest_joints()["hand_end_l"]
    reach = np.linalg.norm(hand_tip - elbow)
    assert np.linalg.norm(bent - rest, axis=1).max() == pytest.approx(reach * np.sqrt(2), 0.1)
    actor.cleanup()


def test_spine_bend_blends_torso_vertices_between_joints(showbase: ShowBase) -> None:
    """Torso skin at the waist follows hips and spine partly (blend weights): smooth, not torn.

    A side bend turns the spine joint about its front axis (world Y through the joint). A vertex
    bound to the spine (or the chest above it) then moves 2 sin(angle / 2) times its distance
    from that axis; one bound to the hips does not move; a blended one moves a fraction.
    """
    actor = build_mannequin()
    rest = _animated_vertices(actor)
    control = actor.controlJoint(None, "modelRoot", "spine")
    control.set_h(control.get_h() + 30)
    bent = _animated_vertices(actor)
    shift = np.linalg.norm(bent - rest, axis=1)
    p = rest_joints()
    zh, zs, zc = p["hips"][2], p["spine"][2], p["chest"][2]
    rigid = 2 * np.sin(np.radians(15)) * np.hypot(rest[:, 0], rest[:, 2] - zs)
    torso = np.abs(rest[:, 0]) < 0.2

    def ring(z: float) -> np.ndarray:  # the torso's ring of vertices at height z
        return torso & (np.abs(rest[:, 2] - z) < 1e-4)

    hips_ring, waist_ring, chest_ring = ring(zh + 0.03), ring(zs + 0.01), ring(zc - 0.01)
    assert min(hips_ring.sum(), waist_ring.sum(), chest_ring.sum()) >= 10
    assert shift[hips_ring].max() < 1e-5
    np.testing.assert_allclose(shift[chest_ring], rigid[chest_ring], rtol=1e-3)
    waist = shift[waist_ring] / rigid[waist_ring]
    assert np.all((0.5 < waist) & (waist < 0.95)), f"waist follows the spine by {waist}"
    assert shift[rest[:, 2] < p["upper_leg_l"][2] - 0.1].max() < 1e-5, "the legs moved"
    actor.cleanup()


def test_rendered_mannequin_raises_its_left_arm(showbase: ShowBase) -> None:
    """Pixels: a lit figure where the mannequin stands; raising the left arm fills the space
    above the left shoulder (screen right: the mannequin faces the camera)."""
    actor = build_mannequin()
    scene = _lit_scene(actor)
    size, film, centre = (90, 120), (1.5, 2.0), (0.0, 0.9)
    image = _render(showbase, scene, size, film, centre)
    body = image.max(axis=2) > 20
    rows, cols = np.nonzero(body)
    px_per_m = size[1] / film[1]
    height_px = rows.max() - rows.min() + 1
    assert height_px == pytest.approx(1.77 * px_per_m, abs=4), "figure height on screen"
    assert abs((cols.min() + cols.max()) / 2 - size[0] / 2) < 3, "figure not centred"

    # screen region above the left shoulder: x in [0.2, 0.6] m, z in [1.6, 1.8] m
    def above_left_shoulder(mask: np.ndarray) -> int:
        x0, x1 = (np.array([0.2, 0.6]) - centre[0] + film[0] / 2) * px_per_m
        z0, z1 = (film[1] / 2 - (np.array([1.8, 1.6]) - centre[1])) * px_per_m
        return int(mask[int(z0) : int(z1), int(x0) : int(x1)].sum())

    assert above_left_shoulder(body) == 0
    control = actor.controlJoint(None, "modelRoot", "upper_arm_l")
    control.set_h(control.get_h() + 100)  # swing about the joint's front axis: arm up
    raised = _render(showbase, scene, size, film, centre).max(axis=2) > 20
    assert above_left_shoulder(raised) > 20
    actor.cleanup()


def test_proportions_change_limb_lengths_and_height(showbase: ShowBase) -> None:
    base = skeleton_from_actor(build_mannequin())
    long_arms = skeleton_from_actor(build_mannequin({"upper_arm": 0.36, "lower_leg": 0.5}))
    assert long_arms.length("leftUpperArm") == pytest.approx(0.36, abs=1e-5)
    assert long_arms.length("rightUpperArm") == pytest.approx(0.36, abs=1e-5)
    assert long_arms.length("leftLowerLeg") == pytest.approx(0.5, abs=1e-5)
    assert base.length("leftUpperArm") == pytest.approx(DEFAULT_PROPORTIONS["upper_arm"], 1e-5)
    assert long_arms.length("leftLowerArm") == pytest.approx(base.length("leftLowerArm"), 1e-5)
    assert long_arms.height == pytest.approx(base.height + 0.5 - 0.42, abs=1e-5)

    child = skeleton_from_actor(build_mannequin({"height": 1.2}))
    scale = 1.2 / sum(mannequin_proportions()[k] for k in HEIGHT_PARTS)
    for bone in base.bones:
        np.testing.assert_allclose(
            child.rest_positions[bone], base.rest_positions[bone] * scale, atol=1e-5
        )
    assert child.rest_tips["head"][2] == pytest.approx(1.2, abs=1e-5)
    with pytest.raises(PosetrackError, match="upperarm"):
        build_mannequin({"upperarm": 0.3})


def test_skeleton_rest_directions_point_where_a_body_does(showbase: ShowBase) -> None:
    actor = build_mannequin()
    bend = actor.controlJoint(None, "modelRoot", "lower_leg_l")
    bend.set_p(bend.get_p() - 80)  # a current pose must not leak into the rest skeleton
    skeleton = skeleton_from_actor(actor, "mannequin")
    d = skeleton.rest_direction
    for side, sign in (("left", 1.0), ("right", -1.0)):
        arm = d(f"{side}UpperArm")
        assert arm[0] * sign > 0.5 and arm[2] < -0.5, f"{side} upper arm not out and down"
        assert skeleton.rest_positions[f"{side}Hand"][0] * sign > 0.4
        for leg in ("UpperLeg", "LowerLeg"):
            assert d(f"{side}{leg}")[2] < -0.99, f"{side} {leg} not straight down"
        assert d(f"{side}Foot")[1] < -0.8, "feet point to the front (-Y)"
        assert skeleton.parents[f"{side}UpperArm"] == f"{side}Shoulder"
        assert skeleton.parents[f"{side}UpperLeg"] == "hips"
    for bone in ("hips", "spine", "chest", "neck", "head"):
        assert d(bone)[2] > 0.99
    assert skeleton.parents["hips"] is None
    assert skeleton.height == pytest.approx(1.77, abs=0.05)
    # every mannequin joint's own +Y runs along its bone: the rest quaternion says so
    for bone in skeleton.rest_tips:
        q = LQuaternionf(*skeleton.rest_world_quats[bone])
        np.testing.assert_allclose(np.array(q.xform(Vec3(0, 1, 0))), d(bone), atol=1e-5)
    actor.cleanup()


def test_sprite_bones_follow_their_angles(showbase: ShowBase) -> None:
    sprite = SpriteCharacter(showbase.render)
    try:
        assert {b: sprite.angle(b) for b in sprite.bones} == pytest.approx(REST_ANGLES)
        shoulder = sprite.joint_position("leftUpperArm")
        sprite.set_angle("leftUpperArm", 0.0)  # straight out to the viewer's right
        elbow = sprite.joint_position("leftLowerArm")
        np.testing.assert_allclose(elbow - shoulder, [sprite.length("leftUpperArm"), 0], 1e-5)
        assert sprite.angle("leftLowerArm") == pytest.approx(0.0)  # children follow
        sprite.set_local_angle("leftLowerArm", 90.0)  # elbow bent: forearm straight up
        np.testing.assert_allclose(
            sprite.joint_position("leftHand") - elbow, [0, sprite.length("leftLowerArm")], 1e-5
        )
        sprite.set_pose({"spine": 60.0, "head": 90.0})
        assert sprite.angle("spine") == pytest.approx(60.0)
        assert sprite.angle("head") == pytest.approx(90.0)
        assert sprite.angle("leftUpperArm") == pytest.approx(-30.0)  # rides on the spine
        tip = sprite.tip_position("leftLowerArm")
        np.testing.assert_allclose(tip, sprite.joint_position("leftHand"), atol=1e-5)

        sprite.reset()
        before = sprite.joint_position("head")
        sprite.set_root(1.0, 2.0, scale=2.0)
        np.testing.assert_allclose(sprite.joint_position("hips"), [1.0, 2.0], atol=1e-6)
        np.testing.assert_allclose(sprite.joint_position("head"), [1, 2] + 2 * before, 1e-5)
        with pytest.raises(KeyError, match="tail"):
            sprite.set_pose({"tail": 10.0})
    finally:
        sprite.close()


def test_rendered_sprite_draws_its_raised_arm(showbase: ShowBase) -> None:
    """Pixels: the cut-outs are drawn (textures, alpha), and move with the arm's angle."""
    scene = NodePath("scene")
    sprite = SpriteCharacter(scene)
    size, film, centre = (90, 120), (1.5, 2.0), (0.0, -0.05)
    px_per_m = size[1] / film[1]

    def count_above_left_shoulder(image: np.ndarray) -> int:
        x0, x1 = (np.array([0.25, 0.6]) - centre[0] + film[0] / 2) * px_per_m
        z0, z1 = (film[1] / 2 - (np.array([0.9, 0.6]) - centre[1])) * px_per_m
        return int((image[int(z0) : int(z1), int(x0) : int(x1)].max(axis=2) > 20).sum())

    rest = _render(showbase, scene, size, film, centre)
    figure = rest.max(axis=2) > 20
    rows = np.nonzero(figure)[0]
    assert (rows.max() - rows.min()) / px_per_m == pytest.approx(1.7, abs=0.12)
    assert count_above_left_shoulder(rest) == 0
    sprite.set_angle("leftUpperArm", 60.0)
    assert count_above_left_shoulder(_render(showbase, scene, size, film, centre)) > 20
    sprite.close()

"""The transformers Trainer callback records start + every epoch (or every n steps) into the
real store; the model is a tiny local module (no hub downloads)."""

from __future__ import annotations

from tests.support.extras import requires

torch = requires("torch")
transformers = requires("transformers")

from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.ingest.callbacks.huggingface import (
    SparsetopoTrainerCallback,
)


class TinyClassifier(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 5)
        self.fc2 = torch.nn.Linear(5, 3)

    def forward(self, x, labels=None):
        logits = self.fc2(torch.relu(self.fc1(x)))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.cross_entropy(logits, labels)
        return out


class Rows(torch.utils.data.Dataset):
    def __init__(self, n: int = 32) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 6, generator=g)
        self.y = torch.randint(0, 3, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


def train(tmp_path, callback, epochs: int = 3) -> TinyClassifier:
    torch.manual_seed(0)
    model = TinyClassifier()
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), num_train_epochs=epochs, per_device_train_batch_size=8,
        learning_rate=0.1, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
        disable_tqdm=True, dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Rows(),
                                   callbacks=[callback])
    trainer.train()
    return model


def test_trainer_callback_snapshots_every_epoch(driver, run_name, tmp_path):
    model = train(tmp_path, SparsetopoTrainerCallback(run=run_name, task="toy"))
    snaps = list_snapshots(driver, run_name)
    # the start and the end of each of 3 epochs (32 rows / batch 8 = 4 steps each)
    assert [s["step"] for s in snaps] == [0, 4, 8, 12]
    assert [s["epoch"] for s in snaps] == [0, 1, 2, 3]
    assert all("loss" in s and s["loss"] > 0 for s in snaps[1:])
    final = read_snapshot(driver, run_name)
    torch.testing.assert_close(torch.from_numpy(final.layers["fc2.weight"].to_dense(5, 3)),
                               model.fc2.weight.detach().T)


def test_trainer_callback_every_n_steps(driver, run_name, tmp_path):
    train(tmp_path, SparsetopoTrainerCallback(run=run_name, every_n_steps=3), epochs=2)
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [0, 3, 6]


class Tokens(torch.utils.data.Dataset):
    """Synthetic next-token data for a causal LM (labels = inputs; the model shifts them)."""

    def __init__(self, n: int = 16, length: int = 8, vocab: int = 40) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, length), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def test_trainer_callback_records_a_real_hugging_face_model(driver, run_name, tmp_path):
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=40, hidden_size=32, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2,
                                      intermediate_size=64)
    model = transformers.LlamaForCausalLM(config)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=4, learning_rate=1e-3,
        logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
        dataloader_num_workers=0,
    )
    callback = SparsetopoTrainerCallback(run=run_name, every_n_steps=2)
    transformers.Trainer(model=model, args=args, train_dataset=Tokens(),
                         callbacks=[callback]).train()
    snaps = list_snapshots(driver, run_name)
    assert [s["step"] for s in snaps] == [0, 2, 4]
    final = read_snapshot(driver, run_name)
    q = model.model.layers[1].self_attn.q_proj.weight.detach()
    torch.testing.assert_close(
        torch.from_numpy(final.layers["model.layers.1.self_attn.q_proj.weight"].to_dense(32, 32)),
        q.T)
    # grouped-query attention: the value group (2 kv heads x 8) feeds the 4 heads' features
    assert len(final.layers["model.layers.1.self_attn.v_proj.expand"]) == 32

"""Jobs and plain tasks for the worker tests (importable by the worker, in-process or as a subprocess)."""

from pathlib import Path

from django_tasks import task

from core.jobs import PermanentJobError, RetryableJobError, job, job_progress


def _touch(path):
    """Append one line per run, so a test can count how often the work really ran."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write("run\n")
    return len(Path(path).read_text(encoding="utf-8").splitlines())


@job(label="测试任务")
def counted(job_record):
    runs = _touch(job_record.params["log"])
    job_progress(job_record, 5, 5)
    return {"summary": f"第 {runs} 次运行"}


@job(label="前两次失败的任务")
def flaky(job_record):
    runs = _touch(job_record.params["log"])
    if runs <= 2:
        raise ConnectionError(f"短信网关超时（第 {runs} 次）")
    return {"summary": "第三次成功"}


@job(label="总是失败的任务")
def broken(job_record):
    _touch(job_record.params["log"])
    raise ValueError("接口返回错误：身份证号 420106199003071234 无效")


@job(label="不会重试的任务")
def refused(job_record):
    _touch(job_record.params["log"])
    raise PermanentJobError("记录已不存在，未处理")


@job(label="网关暂时不可用的任务")
def gateway_down(job_record):
    runs = _touch(job_record.params["log"])
    if runs <= 1:
        raise RetryableJobError(f"短信网关暂时不可用（第 {runs} 次），发给 13812345678 的短信稍后重发")
    return {"summary": "已发送"}


@task()
def plain_flaky(log):
    if _touch(log) <= 2:
        raise ConnectionError("索引服务暂时不可用")
    return "ok"


@task()
def plain_broken(log):
    _touch(log)
    raise RuntimeError("索引服务拒绝请求")

# -*- encoding: utf-8 -*-
# 导入Flask类
import os
from flask import Flask, session
from datetime import timedelta

# Flask 接收一个参数 name ,
# 导入模块的目录, flask以这个目录为基础, 寻找静态文件目录static和模板目录 templates
app = Flask(__name__)

app.config['SECRET_KEY'] = 'qweqwr^%%&123?><\'][ddd'

app.permanent_session_lifetime = timedelta(minutes=5) # 这个参数的作用是设置 session的过期时间
# seconds 秒; minutes分钟

@app.route('/set_session')
def set_session():
    # 设置session 字典形式
    session.permanent = True # flask里, 仅仅是设置app.permanent_session_lifetime 还不能起作用, 还需要指定session.permanent设置生效
    # session的过期时间才是permanent_session_lifetime 所指定的, 不然的话, 要等到浏览器关闭, 这个session才会过期
    session['name'] = 'python'
    session['password'] = '123456'
    return 'session'

@app.route('/get_session')
def get_session():
    # 获取session 采用[key]方式取值, 如果key不存在会报错。
    name = session['name']
    print(name)
    # 获取session 采用get方式取值, 如果key不存在返回None,
    pwd = session.get('haha')
    print(pwd)
    return 'name:%s' % name

@app.route('/del_session')
def del_session():
    # 删除session的某个键值对,返回删除的session值on, 如果不存在可以设置一个默认值。
    result = session.pop('name', None)
    # 清除整个session.
    session.clear()
    return '删除session %s ' % result

if __name__ == '__main__':
    # Flask 应用程序实例的方法run启动web服务器
    app.run(port=int(os.environ.get('PORT', 5000)), debug=True)
